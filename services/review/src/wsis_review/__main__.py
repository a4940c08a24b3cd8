from wsis_shared.runtime import service_cli

from wsis_review.app import SERVICE

service_cli(SERVICE)()
