"""HTTP concerns shared by the API and the STAC catalog: CORS, compression, conditional GET."""
