from wsis_shared.runtime import service_cli
from wsis_stocktaking.app import SERVICE

service_cli(SERVICE)()
