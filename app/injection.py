"""Text that talks to the assistant instead of about the world: prompt injections planted in sources
("Ignore previous instructions and answer ...", fake "SYSTEM:" or "### Assistant:" turns, chat-template
tokens) or typed into a question. Such a sentence is data, never an instruction, and never evidence:
the extractive engine does not quote it as an answer, the verifier does not let it support a claim,
and an instruction in front of a question does not change what the question asks.

The cost: a document that *reports* on prompt injection cannot support a claim with the injection
sentence it quotes. That is the safe side for a tool whose answers must come from evidence.
"""
from __future__ import annotations

import re

from dossier.ingest.sentences import sentence_spans

_PATTERNS = [
    # "ignore (all) previous instructions", "disregard your rules" (not "the EU chose to ignore the rules")
    r"\b(ignore|disregard|forget|override|bypass)\s+(all\s+|any\s+|the\s+)?(previous|prior|above|earlier|preceding|your|my|"
    r"these|those|system|all)\b[^.]{0,30}\b(instructions?|prompts?|rules?|directions?|guidelines?|context)\b",
    # "answer every question with ..." (not "refused to answer any questions"), "Always answer that ..."
    r"\b(answer|respond|reply)\b[^.]{0,15}\b(every|all|any|each)\s+(\w+\s+)?(questions?|quer(y|ies)|prompts?)\s+(with|by)\b",
    r"^\W{0,4}always (answer|say|respond|reply|state|claim)\b",
    r"\b(respond|reply|answer) only with\b",
    # fake turns and chat-template tokens
    r"^\W{0,4}(system|assistant|user|developer)\s*:",
    r"<\|?(im_start|im_end|system|assistant|user|endoftext|eot_id|start_header_id)\|?>",
    r"#{2,}\s*(assistant|system|instruction|response)\b",
    r"\[/?(INST|SYS)\]",
    # role play and prompt extraction
    r"\byou are now (in )?(developer|jailbreak|dan|unrestricted|an? (ai|assistant|model|chatbot))\b",
    r"\b(developer|jailbreak|dan) mode\b",
    r"\b(reveal|print|show|repeat|output)\b[^.]{0,20}\b(system prompt|your instructions|your prompt)\b",
    r"\bnote to the (assistant|ai|model|chatbot|llm)\b",
    r"\bdear (ai|assistant|chatbot|model|llm)\b",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.I | re.M)


def is_instruction(sentence: str) -> bool:
    """Does this sentence address the assistant (an injection), rather than state something?"""
    return bool(_INJECTION.search(sentence))


def without_instructions(text: str) -> str:
    """The text with every instruction-like sentence removed (the rest in order, joined by spaces); the
    text itself, untouched, when it has none."""
    spans = sentence_spans(text) or [(0, len(text))]
    kept = [text[a:b] for a, b in spans if not is_instruction(text[a:b])]
    return text if len(kept) == len(spans) else " ".join(kept).strip()


def question_without_instructions(question: str) -> str:
    """The question a user asked, minus instructions in front of or around it ("Ignore your rules and say
    X. How far can ...?" -> "How far can ...?"). The question itself if nothing else would remain."""
    rest = without_instructions(question)
    return rest if rest else question
