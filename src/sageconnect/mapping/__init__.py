"""The mapper extension point: declarative files in mappings/, code plug-ins later."""
