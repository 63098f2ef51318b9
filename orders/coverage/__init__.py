"""Coverage of tasking orders: covered vs remainder per AOI computed in PostGIS, snapshots, the
completion rules (fulfilled at target, pro-rata refund at window end), its pages and operations."""
