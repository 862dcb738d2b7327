"use strict";
// Minimal staff sign-in: posts JSON, the server sets an HttpOnly session cookie.
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = document.getElementById("status");
  const body = JSON.stringify({
    username: document.getElementById("username").value,
    password: document.getElementById("password").value,
  });
  const response = await fetch("/api/login", {
    method: "POST", headers: { "content-type": "application/json" }, body,
  });
  const data = await response.json();
  if (!response.ok) { status.textContent = data.message; return; }
  sessionStorage.setItem("helpline.csrf", data.csrf_token);
  status.textContent = "Signed in as " + data.staff.display_name;
  const next = data.staff.role === "counsellor" ? "/staff/console.html" : "/staff/monitor.html";
  location.assign(next);
});
