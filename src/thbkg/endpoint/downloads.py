"""Routes for integrators: the VoID description, the dumps and their DCAT description."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse

from thbkg.build.release import Release
from thbkg.catalogue import ServedVoid, dcat_description
from thbkg.endpoint.templating import page
from thbkg.endpoint.protocol import negotiate

__all__ = ["add_download_routes"]

_RDF = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml",
        "application/n-triples": "nt"}


def add_download_routes(app: FastAPI, release: Release, public_url: str, void: ServedVoid) -> None:
    """VoID (the release's statistics, with this server's endpoint and dumps), the dumps and their DCAT."""
    dumps = release.dumps
    dcat = dcat_description(dumps, public_url)
    by_name = {dump.name: dump for dump in dumps}

    def rdf(graph, request: Request, title: str, description: str) -> Response:
        accept = request.headers.get("accept")
        if accept and negotiate(accept, [*_RDF, "text/html"]) == "text/html":  # a browser: readable
            return page("rdf_document.html", title=title, description=description,
                        turtle=graph.serialize(format="turtle"), headers={"Vary": "Accept"})
        media_type = negotiate(accept, list(_RDF))
        if media_type is None:
            return Response("406 available as " + ", ".join(_RDF) + "\n", status_code=406, media_type="text/plain")
        return Response(graph.serialize(format=_RDF[media_type]), media_type=media_type, headers={"Vary": "Accept"})

    @app.get("/.well-known/void", summary="VoID description with class and property partitions")
    async def void_route(request: Request) -> Response:
        return rdf(await void.get(), request, "VoID description of THB-KG",
                   "The dataset's statistics (triples, classes, properties, named graphs) and where to reach it.")

    @app.get("/download/", summary="The dumps, described in DCAT with their sha256 checksums")
    async def catalogue(request: Request) -> Response:
        if negotiate(request.headers.get("accept"), ["text/html", *_RDF]) == "text/html":
            return page("downloads.html", dumps=dumps, headers={"Vary": "Accept"})
        return rdf(dcat, request, "The dumps in DCAT", "The dump files with their formats and sha256.")

    @app.get("/download/{name}", summary="One dump file (TriG, N-Quads or JSON-LD, named graphs kept)")
    async def download(name: str) -> Response:
        dump = by_name.get(name)
        if dump is None:
            return Response("404 no such dump; see /download/\n", status_code=404, media_type="text/plain")
        return FileResponse(dump.path, media_type=dump.media_type,
                            headers={"Digest": f"sha-256={dump.sha256}", "ETag": f'"{dump.sha256}"'})
