"""Streaming algorithms, one subpackage per problem family."""
