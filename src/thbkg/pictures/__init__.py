"""Pictures of the graph: the timeline of France's commitments and charts of the statistics (SVG, PNG)."""

from thbkg.pictures.picture import (
    IMAGE_FORMATS,
    PICTURES,
    Picture,
    PictureError,
    QueryTable,
    Source,
    build_picture,
    draw_picture,
    image_format_for,
    picture_queries,
    render_picture,
)

__all__ = ["IMAGE_FORMATS", "PICTURES", "Picture", "PictureError", "QueryTable", "Source", "build_picture",
           "draw_picture", "image_format_for", "picture_queries", "render_picture"]
