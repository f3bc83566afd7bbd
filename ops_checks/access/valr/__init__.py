"""VALR exchange: request signing and a small REST client."""
