"""paysync_core (work in progress; see the package README)."""

__all__: list[str] = []
