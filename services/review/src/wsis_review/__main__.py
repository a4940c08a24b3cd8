from wsis_review.app import SERVICE
from wsis_shared.runtime import service_cli

service_cli(SERVICE)()
