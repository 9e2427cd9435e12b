//! The real server over HTTP: bound on port 0, stopped by its shutdown future.

use crate::common::Fixture;

#[tokio::test]
async fn serves_over_http_until_shutdown() {
    let fx = Fixture::with_projection().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(opsdeck_web::serve(listener, fx.state.clone(), async {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let health: serde_json::Value = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    // Logged in over HTTP like a browser; without the cookie the API is 401.
    let url = format!("http://{addr}/api/v1/order-volume?brand=mavena");
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    let wrong =
        opsdeck_web::testing::login(&format!("http://{addr}"), "admin", "wrong password").await;
    assert!(wrong.is_err());
    let session =
        opsdeck_web::testing::login(&format!("http://{addr}"), "admin", crate::common::PASSWORD)
            .await
            .unwrap();
    let response = client
        .get(&url)
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["brands"][0]["periods"][0]["orders"], 2);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
