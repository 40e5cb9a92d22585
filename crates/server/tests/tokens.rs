//! A token's rights are fixed when it is made: a later `token:create` for the same user, with
//! more rights, gives those rights to the new token only.

mod common;

use common::Service;

engine_test! {
    fn token_rights_fixed_at_creation_admin_not_inherited(engine) {
        let svc = Service::start_on(engine, 0.0, &[], None);
        svc.op(&["org:create", "acme"]);
        svc.op(&["org:create", "other"]);
        svc.op(&["site:create", "s1", "--org", "acme"]);
        svc.op(&["site:create", "s2", "--org", "other"]);
        let site_only = svc.api(&svc.token("carol", &["--site", "s1"]));
        let admin = svc.api(&svc.token("carol", &["--admin"]));
        let org = svc.api(&svc.token("carol", &["--org", "other"]));
        assert_eq!(admin.get("/sites/s2/secrets/showall").0, 200, "the new admin token");
        assert_eq!(org.get("/organizations/other/secrets").0, 200);
        assert_eq!(site_only.get("/sites/s1/secrets/showall").0, 200);
        for path in ["/sites/s2/secrets/showall", "/organizations/other/secrets", "/organizations/acme/secrets"] {
            let (status, body) = site_only.get(path);
            assert_eq!(status, 403, "the site-scoped token stays site-scoped: {path} {body}");
        }
        assert_eq!(org.get("/sites/s1/secrets/showall").0, 403, "grants are not pooled per user");
        assert_eq!(org.get("/organizations/acme/secrets").0, 403);
    }
}
