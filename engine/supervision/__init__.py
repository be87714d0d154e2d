"""The supervision platform: monitoring over the projections, timer incidents and lateness,
compliance rules and their alerts, indicators. Nothing here deserializes a workflow."""
