"""3D representations and conversions between them (canonical frame: centred, fits [-0.5, 0.5]^3, +Y up)."""
