"""sageconnect: keeps a French SME's receivables under control."""

__version__ = "0.1.0"
