# staging's state: the S3 bucket and DynamoDB lock table are the account's (README, "Manual steps");
# replace ACCOUNT. terraform -chdir=deploy/terraform/stack init -backend-config=../envs/staging/backend.hcl
bucket         = "ACCOUNT-vms-tfstate"
key            = "vms/staging/terraform.tfstate"
region         = "eu-west-1"
dynamodb_table = "vms-tfstate-lock"
encrypt        = true
