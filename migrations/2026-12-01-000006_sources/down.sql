DROP TABLE evaluation_sources;
DROP TABLE source_documents;
