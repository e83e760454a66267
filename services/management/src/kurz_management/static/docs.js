// kurz's API documentation page: Swagger UI over /openapi.json, served by kurz itself.
// "Try it out" sends requests to this same server; "Authorize" takes an API key for any
// of the three schemes (Bearer, APIKey, X-API-KEY).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    filter: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
