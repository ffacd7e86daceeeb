"""Read files and URLs into normalized documents, and cut documents into chunks with exact offsets."""
