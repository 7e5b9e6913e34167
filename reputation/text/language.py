"""Language identification with py3langid, whose model ships inside the package."""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

UNDETERMINED = "und"
# Below this normalised probability the guess is noise (emoji-only posts,
# "ok", handles); "und" is the honest answer there.
MIN_PROBABILITY = 0.5
# The identifier's cost grows with length; the first few KB decide the language.
MAX_CHARS = 4000


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when it cannot tell."""
    sample = text[:MAX_CHARS]
    if sum(character.isalpha() for character in sample) < 3:
        return UNDETERMINED
    language, probability = _identifier().classify(sample)
    return str(language) if probability >= MIN_PROBABILITY else UNDETERMINED
