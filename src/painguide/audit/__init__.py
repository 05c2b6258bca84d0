"""The audit trail as a hash chain: pure chain maths (:mod:`.chain`) and the use cases (:mod:`.service`)."""

from painguide.audit.chain import GENESIS, ChainBreak, clean_detail, clean_text, entry_digest

__all__ = ["GENESIS", "ChainBreak", "clean_detail", "clean_text", "entry_digest"]
