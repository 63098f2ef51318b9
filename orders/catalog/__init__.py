"""The archive catalog: data products (with their price), captures, import and seeding, the
catalog.search operations and the public STAC API. Shared archive metadata: no org owns it."""
