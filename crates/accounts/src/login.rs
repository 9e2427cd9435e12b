//! One login attempt, decided without HTTP: throttled, refused (and why),
//! or accepted with a new session. The web's login handler reads the form,
//! calls [`Logins::attempt`], writes the audit log and renders the answer.
//!
//! Order: the address's attempt rate and the (username, address) pair's
//! wait come first ([`crate::limiter`]); a throttled attempt's password is
//! not checked, so waiting cannot be skipped by guessing faster. Then
//! exactly one argon2 verification, against the account's hash or, for an
//! unknown username, against a hash of a random password made once at
//! start, so the time a refusal takes does not say whether the username
//! exists. A disabled account is refused even with the right password.
//! Counters key an attempt by the account's name, or by one bucket for
//! anything that cannot be an account's name, so a flood of random long
//! names is one key, not millions.

use crate::limiter::{AttackReport, FailureNote, Limiter, RetryAfter};
use crate::password::PasswordHasher;
use crate::session::{self, random_token, CreatedSession};
use opsdeck_domain::Timestamp;
use opsdeck_store::{validate_username, Store, StoreError, User};
use std::sync::Arc;

/// The counter key of every attempt whose name cannot be an account's.
const NOT_A_USERNAME: &str = "(not a username)";

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

/// One attempt to log in, as typed (no `Debug`: it holds the password).
#[derive(Clone, Copy)]
pub struct Attempt<'a> {
    /// The typed username, normalized (`opsdeck_store::normalize_username`).
    pub username: &'a str,
    pub password: &'a str,
    /// The address it is counted under ([`crate::limiter::address_key`]).
    pub address: &'a str,
    /// The client's address as a new session stores it.
    pub ip: Option<&'a str>,
    pub now: Timestamp,
}

/// What one attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// The address is over its attempt rate, or this name from this address
    /// must still wait: refused without checking the password.
    Throttled(RetryAfter),
    /// Refused after checking: why, and what this failure added up to.
    Refused {
        refusal: Refusal,
        note: FailureNote,
        /// Whether the name could be an account's at all; only such a name
        /// can be an account under attack.
        valid_name: bool,
    },
    /// The password opens the account: its new session, and what the
    /// account went through since its last login (handed back once).
    Accepted {
        session: CreatedSession,
        attacked: Option<AttackReport>,
    },
}

/// Decides login attempts: throttling, the credential check, the counters
/// and the new session. One per process, beside the [`Limiter`] it counts
/// with.
pub struct Logins {
    limiter: Arc<Limiter>,
    hasher: PasswordHasher,
    /// A hash of a random password, verified against when the username is
    /// unknown (timing equalisation).
    dummy_hash: String,
}

impl Logins {
    /// Attempts counted by `limiter`, checked with `hasher`'s parameters
    /// (those of the stored hashes).
    pub fn new(limiter: Arc<Limiter>, hasher: PasswordHasher) -> Logins {
        let dummy_hash = hasher
            .hash(&random_token())
            .expect("hashing a random password cannot fail");
        Logins {
            limiter,
            hasher,
            dummy_hash,
        }
    }

    /// Decides `attempt` against the accounts in `store`; an accepted one
    /// has its session stored.
    pub async fn attempt(
        &self,
        store: &dyn Store,
        attempt: &Attempt<'_>,
    ) -> Result<LoginOutcome, StoreError> {
        let Attempt {
            username,
            password,
            address,
            ip,
            now,
        } = *attempt;
        let valid_name = validate_username(username).is_ok();
        let key = if valid_name { username } else { NOT_A_USERNAME };
        let limiter = &self.limiter;
        if let Err(retry) = limiter
            .login_attempt(address, now)
            .and_then(|()| limiter.login_wait(key, address, now).map_or(Ok(()), Err))
        {
            return Ok(LoginOutcome::Throttled(retry));
        }
        let account = if valid_name {
            store.user_credentials(username).await?
        } else {
            None
        };
        if let Err(refusal) = self.check(account.as_ref(), password) {
            let note = limiter.login_failed(key, address, now);
            return Ok(LoginOutcome::Refused {
                refusal,
                note,
                valid_name,
            });
        }
        let attacked = limiter.login_succeeded(username, address);
        let session = session::create(store, username, ip.map(str::to_string), now).await?;
        Ok(LoginOutcome::Accepted { session, attacked })
    }

    /// Whether `password` opens `account` (the user and its stored hash, as
    /// `Store::user_credentials` gives them; `None` for an unknown name):
    /// one verification either way.
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
    use crate::limiter::{LoginLimits, RateLimits};
    use opsdeck_store::{AuditEntry, NewUser, Role};

    fn limiter() -> Arc<Limiter> {
        Arc::new(Limiter::new(LoginLimits::default(), RateLimits::default()))
    }

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
        let check = Logins::new(limiter(), hasher.clone());
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

    #[tokio::test]
    async fn attempts_are_throttled_refused_or_accepted_with_a_session() {
        let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
        let hasher = PasswordHasher::insecure_fast_for_tests();
        let new = NewUser {
            username: "anna".into(),
            role: Role::Ops,
            password_hash: hasher.hash("correct horse battery").unwrap(),
            at: Timestamp::UNIX_EPOCH,
        };
        let audit = AuditEntry {
            at: Timestamp::UNIX_EPOCH,
            actor: "test".into(),
            action: opsdeck_store::AuditAction::UserCreate,
            subject: "user:anna".into(),
            payload: serde_json::json!({}),
            ip: None,
        };
        assert!(store.create_user(&new, &audit).await.unwrap());
        let logins = Logins::new(limiter(), hasher);
        let now = Timestamp::UNIX_EPOCH;
        let attempt = |username, password, address| Attempt {
            username,
            password,
            address,
            ip: Some(address),
            now,
        };
        let try_ = |a: Attempt<'static>| {
            let (logins, store) = (&logins, store.clone());
            async move { logins.attempt(store.as_ref(), &a).await.unwrap() }
        };

        let refused = |o: LoginOutcome| match o {
            LoginOutcome::Refused {
                refusal,
                valid_name,
                ..
            } => (refusal, valid_name),
            other => panic!("not refused: {other:?}"),
        };
        let ghost = try_(attempt("ghost", "correct horse battery", "192.0.2.9")).await;
        assert_eq!(refused(ghost), (Refusal::UnknownUser, true));
        let garbage = try_(attempt("Not A Name!", "x", "192.0.2.9")).await;
        assert_eq!(refused(garbage), (Refusal::UnknownUser, false));

        for _ in 0..5 {
            let wrong = try_(attempt("anna", "wrong horse battery", "192.0.2.1")).await;
            assert_eq!(refused(wrong), (Refusal::WrongPassword, true));
        }
        let waiting = try_(attempt("anna", "correct horse battery", "192.0.2.1")).await;
        assert!(
            matches!(waiting, LoginOutcome::Throttled(r) if r.seconds() == 1),
            "the right password is not checked while the pair waits: {waiting:?}"
        );

        let LoginOutcome::Accepted { session, attacked } =
            try_(attempt("anna", "correct horse battery", "198.51.100.7")).await
        else {
            panic!("another address is not slowed");
        };
        let attacked = attacked.expect("the failures are reported to the owner");
        assert_eq!((attacked.failures, attacked.addresses), (5, 1));
        let stored = store
            .session(&session::id_hash(&session.id))
            .await
            .unwrap()
            .expect("the session is stored under its id's hash");
        assert_eq!(stored.user.username, "anna");
        assert_eq!(stored.csrf_token, session.csrf_token);
        assert_eq!(stored.ip.as_deref(), Some("198.51.100.7"));
    }
}
