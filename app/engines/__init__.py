"""Answer engines: one interface (`Engine`), several implementations."""
