-- Without preloading, bound relations are unreadable (fail closed: the
-- restrictive policy of functions/redaction/_sync_row_security.sql): say so at
-- once.  Install only: an upgrade runs in a server that already has the library.
DO $$
BEGIN
    IF current_setting('shared_preload_libraries') !~ '(^|[ ,])"?pals_privacy"?($|[ ,])' THEN
        RAISE WARNING 'pals_privacy is not in shared_preload_libraries'
            USING DETAIL = 'Until it is, relations bound to pals_privacy are not readable or writable by roles other than their owners and superusers.',
                  HINT = 'Add pals_privacy to shared_preload_libraries in postgresql.conf and restart the server.';
    END IF;
END $$;
