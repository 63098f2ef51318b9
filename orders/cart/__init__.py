"""The archive cart (rows per person and org), server-side archive pricing in PostGIS, and archive
checkout (`archive_order_place`, behind orders.archive.place and the cart's Place button)."""
