"""The arena: many games run as a matrix, stored in SQLite, and reported as a leaderboard."""
