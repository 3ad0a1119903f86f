"""3D shape decoders."""
