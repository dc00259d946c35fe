"""The variational autoencoder lives in :mod:`genval.autoencoder`; this name is kept for old imports."""

from genval.autoencoder import VariationalAutoencoder

__all__ = ["VariationalAutoencoder"]
