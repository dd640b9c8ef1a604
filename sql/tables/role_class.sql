-- The statistics class (issue 14) reads no row of any bound relation, reads
-- the pseudonymous records (pals_privacy.loan_statistics) and unbound tables
-- it is granted (the library catalogue).
CREATE TABLE @extschema@.role_class (
    role         regrole PRIMARY KEY,
    class        text NOT NULL
                 CHECK (class IN ('operational', 'staff', 'patron', 'collections', 'auditor', 'statistics')),
    purpose      text REFERENCES @extschema@.purposes (name),
    classified_at timestamptz NOT NULL DEFAULT now(),
    classified_by name NOT NULL DEFAULT current_user
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.role_class', '');
