"""Walking-network accessibility: distances, counts within radii, life circles."""
