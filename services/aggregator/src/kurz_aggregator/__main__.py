from kurz.serve import serve
from kurz.settings import load_settings

serve("kurz_aggregator.app:create_app", load_settings(), 8081)
