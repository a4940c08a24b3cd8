from wsis_shared.runtime import service_cli
from wsis_submissions.app import SERVICE

service_cli(SERVICE)()
