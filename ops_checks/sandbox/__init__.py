"""The sandbox target: throwaway Postgres, a VALR simulator behind respx, and the reference bot."""
