"""Text understanding: language, sentiment (VADER with the complaint lexicon), intent and sentence embeddings."""
