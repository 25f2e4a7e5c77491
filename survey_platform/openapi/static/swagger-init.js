// Starts Swagger UI on /schema. Everything it needs comes from the page's #swagger-ui element (data attributes),
// so the page has no inline script and works under `script-src 'self'`; the UI itself is the swagger-ui-bundle
// script loaded before this module.

const container = document.getElementById("swagger-ui");
const { openapiUrl, csrfCookie, csrfHeader } = container.dataset;

function cookieValue(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((entry) => entry.startsWith(prefix));
  return found === undefined ? undefined : decodeURIComponent(found.slice(prefix.length));
}

// "Try it out" requests carry the CSRF token when the app uses Litestar's CSRF cookie (and it is readable).
function withCsrfToken(request) {
  if (csrfCookie && csrfHeader) {
    const token = cookieValue(csrfCookie);
    if (token !== undefined) {
      request.headers[csrfHeader] = token;
    }
  }
  return request;
}

globalThis.SwaggerUIBundle({
  url: openapiUrl,
  domNode: container,
  layout: "BaseLayout",
  presets: [globalThis.SwaggerUIBundle.presets.apis],
  deepLinking: true,
  // The default validator badge loads an image from validator.swagger.io: nothing may come from another host.
  validatorUrl: null,
  requestInterceptor: withCsrfToken,
});
