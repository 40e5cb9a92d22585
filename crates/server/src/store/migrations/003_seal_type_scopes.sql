-- 3: every value is sealed again with its secret's type and scopes in the associated data
-- (crypto::Binding), so changing either in the database makes the value fail to open. The
-- schema does not change; the re-sealing is Rust (store::secrets::reseal_unbound), run in the
-- same transaction as this file, with the rows' own keys.
SELECT 1;
