"""Video walls: desired state, layouts, displays and composite panel outputs."""
