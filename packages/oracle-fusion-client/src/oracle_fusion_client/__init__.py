"""oracle_fusion_client (work in progress; see the package README)."""

__all__: list[str] = []
