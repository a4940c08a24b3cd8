from wsis_shared.runtime import service_cli
from wsis_voting.app import SERVICE

service_cli(SERVICE)()
