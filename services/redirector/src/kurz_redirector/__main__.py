from kurz.serve import serve
from kurz.settings import load_settings

serve(
    "kurz_redirector.app:create_app",
    load_settings(),
    8080,
    protocol="kurz_redirector.protocol:EdgeProtocol",
    own_protocol="kurz_redirector.edge:EdgeProtocol",
)
