"""Page languages: which languages painguide speaks, the user's choice and the browser's preference."""

from painguide.i18n.languages import DEFAULT_LANGUAGE, LANGUAGES, check_language, negotiate

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "check_language", "negotiate"]
