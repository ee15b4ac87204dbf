-- A merchant may be bound to its TLS client certificate (issue 7, A9): the
-- SHA-256 of the certificate's DER encoding, lower-case hex. NULL: any
-- certificate the client CA signed will do.
ALTER TABLE merchants ADD COLUMN client_cert_sha256 TEXT;
