// Starts Swagger UI on this server's OpenAPI document. It is a file of its own because the
// page's Content-Security-Policy allows no inline script.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    // The standalone layout's top bar loads any document a visitor types in; this page shows
    // only the server's own.
    layout: "BaseLayout",
    // The default would send the document to the online validator for its badge.
    validatorUrl: null,
    // A token entered under Authorize stays in this page's memory, never in localStorage.
    persistAuthorization: false,
    // Configuration from the address bar's query string could point the page elsewhere.
    queryConfigEnabled: false,
  });
});
