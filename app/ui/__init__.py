"""The Gradio UI: `build_ui(UIServices(ctx))` returns the Blocks; `assets` holds the page CSS/script
that `app.server` passes when mounting it."""
from .assets import CSS, HEAD
from .check import CSS as _CHECK_CSS
from .quotes import CSS as _QUOTES_CSS
from .layout import build_ui
from .services import UIServices

CSS = CSS + _CHECK_CSS + _QUOTES_CSS  # the Check draft and Quotes tabs' styles

__all__ = ["CSS", "HEAD", "UIServices", "build_ui"]
