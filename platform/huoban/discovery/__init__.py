"""Cross-hub discovery: one public index of every hub's open calls, projects and partners (public schema)."""
