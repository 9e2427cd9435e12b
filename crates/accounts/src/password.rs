//! argon2id password hashes in the PHC string format (`$argon2id$v=19$…`),
//! which carries its own parameters: a hash made with lighter parameters
//! (tests) still verifies, and raising the parameters later needs no
//! migration.
//!
//! The default parameters are the argon2 crate's defaults, which are the
//! OWASP recommendation for argon2id (19 MiB memory, 2 iterations, 1 lane).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// The shortest password `opsdeck user add` accepts.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Hashes and verifies passwords with fixed argon2id parameters.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
}

impl Default for PasswordHasher {
    /// OWASP-level parameters (the argon2 crate's defaults).
    fn default() -> Self {
        PasswordHasher {
            params: Params::default(),
        }
    }
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "argon2id(m={} KiB, t={}, p={})",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost()
        )
    }
}

impl PasswordHasher {
    /// Very light parameters (8 KiB, 1 iteration) so test suites that log in
    /// many times stay fast. Never use this for real accounts: such hashes
    /// are cheap to brute-force. Compiled only for this crate's tests and
    /// with the `testing` feature, which only test builds enable.
    #[cfg(any(test, feature = "testing"))]
    pub fn insecure_fast_for_tests() -> Self {
        PasswordHasher {
            params: Params::new(8, 1, 1, None).expect("valid argon2 parameters"),
        }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC string of `password` with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(self
            .argon2()
            .hash_password(password.as_bytes(), &salt)?
            .to_string())
    }

    /// Whether `password` matches the stored PHC string (with the
    /// parameters stored in it). A malformed stored hash never matches.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        match PasswordHash::new(stored) {
            Ok(parsed) => self
                .argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// Checks a new password: at least [`MIN_PASSWORD_LEN`] characters, not all
/// whitespace.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN || password.trim().is_empty() {
        return Err(format!(
            "the password must be at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let h = PasswordHasher::insecure_fast_for_tests();
        let a = h.hash("correct horse battery").unwrap();
        let b = h.hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(!a.contains("correct horse"));
        assert!(h.verify("correct horse battery", &a));
        assert!(!h.verify("correct horse batterY", &a));
        assert!(!h.verify("anything", "not a phc string"));
        // The default (OWASP) hasher verifies a light hash: parameters
        // travel in the string.
        assert!(PasswordHasher::default().verify("correct horse battery", &a));
    }

    #[test]
    fn default_parameters_are_owasp_level() {
        let d = format!("{:?}", PasswordHasher::default());
        assert_eq!(d, "argon2id(m=19456 KiB, t=2, p=1)");
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("            ").is_err());
        assert!(check_new_password("twelve chars").is_ok());
    }
}
