"""RDF/XML that declares a DTD, entities or external references is refused, wherever they are.

An entity declared in a DTD can expand a few hundred bytes into gigabytes ("billion laughs"), or
name a local file or a URL for the parser to read. RDF/XML needs none of it. Before rdflib or
pyoxigraph parse an XML source, defusedxml's expat reader goes through the whole file, streaming,
and stops at the first DOCTYPE, entity declaration or external reference, however much comment or
text comes before it (a test pads one with 200 KB). Malformed XML is left for the RDF parser to
report with its line, unless ``<!DOCTYPE`` or ``<!ENTITY`` appears anywhere in it: a parser more
lenient than expat must not get past the error to a DTD.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.expatreader import DefusedExpatParser

__all__ = ["REFUSAL", "XmlRefused", "check_xml", "check_xml_file"]

#: What the user is told, after the file's name.
REFUSAL = ("RDF/XML declares a DTD or entities (possible entity-expansion or external-file attack): remove the "
           "<!DOCTYPE ...> block")
_CHUNK = 1 << 20
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlRefused(ValueError):
    """The XML declares a DTD, an entity or an external reference; ``line`` is where."""

    def __init__(self, line: int | None):
        super().__init__(REFUSAL)
        self.line = line


def check_xml(stream: BinaryIO) -> None:
    """Read ``stream`` (seekable) to its end; raise :class:`XmlRefused` at a DTD, entity or external
    reference."""
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(ContentHandler())
    try:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            parser.feed(chunk)
        parser.close()
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise XmlRefused(parser.getLineNumber()) from None
    except SAXParseException:  # not well-formed: the RDF parser says where, unless a DTD hides beyond
        stream.seek(0)
        tail = b""
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            if _DECLARATION.search(tail + chunk):
                raise XmlRefused(None) from None
            tail = chunk[-16:]


def check_xml_file(path: Path) -> None:
    with path.open("rb") as handle:
        check_xml(handle)
