import type { FastifyRequest } from "fastify";

// What each request contributes to the log. The public media key is the only secret that travels
// in a URL (the key is the credential of /v2/media/public/{key}.{ext}), so it is masked here;
// the Authorization header is never serialized at all.

const publicMediaKey = /(\/media\/public\/)[^/.?]+/;

export const requestLogSerializers = {
  req(request: FastifyRequest) {
    return {
      method: request.method,
      url: request.url.replace(publicMediaKey, "$1[redacted]"),
      host: request.host,
      remoteAddress: request.ip,
    };
  },
};
