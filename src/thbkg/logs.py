"""What libraries log, kept at the level it deserves: no library traceback reaches a user.

- rdflib logs a literal whose lexical form is not of its datatype (``"2021-13-45"^^xsd:date``) as
  a warning *with its Python traceback*, once per literal. The SHACL shapes report such a value
  as a violation, with the file and resource, which is what the user must act on; rdflib's record
  is lowered to DEBUG without the traceback.
- matplotlib's font manager logs its font search at DEBUG (about a thousand lines on the first
  picture) when a library has set the root logger to DEBUG (pyLODE does on import); matplotlib
  logs at WARNING and above only.
"""

from __future__ import annotations

import logging

__all__ = ["quiet_library_logs"]


class _LiteralConversionAsDebug(logging.Filter):
    """rdflib's "Failed to convert Literal lexical form" warnings, as DEBUG and without traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Failed to convert Literal lexical form"):
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_FILTER = _LiteralConversionAsDebug()


def quiet_library_logs() -> None:
    """Install the filters and levels above (idempotent)."""
    term = logging.getLogger("rdflib.term")
    if _FILTER not in term.filters:
        term.addFilter(_FILTER)
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
