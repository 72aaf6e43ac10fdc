"""Parse rendered HTML and report anything that would run script or load active content."""

from html.parser import HTMLParser

DANGEROUS_TAGS = {"script", "svg", "img", "iframe", "object", "embed", "math", "style", "base", "form"}
SAFE_SCRIPT_SOURCES = ("/static/",)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and (attributes.get("src") or "").startswith(SAFE_SCRIPT_SOURCES):
            return
        if tag == "form" and attributes.get("method") == "post" and (attributes.get("action") or "").startswith("/"):
            return
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            if name in ("href", "src", "action", "formaction") and value:
                scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
                if scheme in ("javascript", "data", "vbscript"):
                    self.problems.append(f"{scheme}: URL in {name} of <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")


def active_content(html: str) -> list[str]:
    """Return what in ``html`` could run script; an empty list means inert."""
    collector = _Collector()
    collector.feed(html)
    return collector.problems
