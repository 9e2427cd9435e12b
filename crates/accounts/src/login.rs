//! The credential check of a login: which stored account a typed password
//! opens, and why one does not.
//!
//! Every check runs exactly one argon2 verification, against the account's
//! hash or, for an unknown username, against a hash of a random password
//! made once at start, so the time a refusal takes does not say whether
//! the username exists. A disabled account is refused even with the right
//! password. Throttling before the check is the [`crate::limiter`]'s.

use crate::password::PasswordHasher;
use crate::session::random_token;
use opsdeck_store::User;

/// Why a login was refused, as the audit log records it (the person at
/// the form is told the same words whatever the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownUser,
    Disabled,
    WrongPassword,
}

impl Refusal {
    /// The stored reason (`reason` in a `login.failure` audit entry).
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown_user",
            Refusal::Disabled => "disabled",
            Refusal::WrongPassword => "wrong_password",
        }
    }
}

/// Checks typed passwords against stored accounts in equal time.
pub struct LoginCheck {
    hasher: PasswordHasher,
    /// A hash of a random password, verified against when the username is
    /// unknown (timing equalisation).
    dummy_hash: String,
}

impl LoginCheck {
    /// A check with `hasher`'s parameters (those of the stored hashes).
    pub fn new(hasher: PasswordHasher) -> LoginCheck {
        let dummy_hash = hasher
            .hash(&random_token())
            .expect("hashing a random password cannot fail");
        LoginCheck { hasher, dummy_hash }
    }

    /// Whether `password` opens `account` (the user and its stored hash, as
    /// `Store::user_credentials` gives them; `None` for an unknown name).
    pub fn check(&self, account: Option<&(User, String)>, password: &str) -> Result<(), Refusal> {
        let (hash, enabled) = match account {
            Some((user, hash)) => (hash.as_str(), user.disabled_at.is_none()),
            None => (self.dummy_hash.as_str(), false),
        };
        let password_ok = self.hasher.verify(password, hash);
        match (account, enabled, password_ok) {
            (None, ..) => Err(Refusal::UnknownUser),
            (Some(_), false, _) => Err(Refusal::Disabled),
            (Some(_), true, false) => Err(Refusal::WrongPassword),
            (Some(_), true, true) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_domain::Timestamp;
    use opsdeck_store::Role;

    fn account(hasher: &PasswordHasher, disabled: bool) -> (User, String) {
        let user = User {
            username: "anna".into(),
            role: Role::Ops,
            created_at: Timestamp::UNIX_EPOCH,
            password_changed_at: Timestamp::UNIX_EPOCH,
            disabled_at: disabled.then_some(Timestamp::UNIX_EPOCH),
        };
        (user, hasher.hash("correct horse battery").unwrap())
    }

    #[test]
    fn only_the_right_password_of_an_enabled_account_opens_it() {
        let hasher = PasswordHasher::insecure_fast_for_tests();
        let check = LoginCheck::new(hasher.clone());
        let anna = account(&hasher, false);
        assert_eq!(check.check(Some(&anna), "correct horse battery"), Ok(()));
        assert_eq!(
            check.check(Some(&anna), "wrong horse battery"),
            Err(Refusal::WrongPassword)
        );
        let disabled = account(&hasher, true);
        assert_eq!(
            check.check(Some(&disabled), "correct horse battery"),
            Err(Refusal::Disabled)
        );
        assert_eq!(
            check.check(None, "correct horse battery"),
            Err(Refusal::UnknownUser)
        );
        assert_eq!(Refusal::WrongPassword.as_str(), "wrong_password");
    }
}
