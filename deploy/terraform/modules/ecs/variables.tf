variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "region" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "Private subnets of the tasks and the EFS mount targets"
  type        = list(string)
}

variable "image_tag" {
  description = "Image tag deployed: the commit SHA the build-push workflow tagged"
  type        = string
}

variable "vmsd_repository_url" {
  type = string
}

variable "nginx_repository_url" {
  type = string
}

variable "alb_security_group_id" {
  type = string
}

variable "target_group_arn" {
  description = "ALB target group of the nginx service"
  type        = string
}

variable "secret_arns" {
  description = "Secret ARN by key (secrets module): what the task role may read"
  type        = map(string)
}

variable "secret_ids" {
  description = "Secret name by key (secrets module): used as aws-sm:NAME"
  type        = map(string)
}

variable "bucket_names" {
  type = map(string)
}

variable "bucket_arns" {
  type = map(string)
}

variable "redis_host" {
  type = string
}

variable "kafka_brokers" {
  description = "MSK TLS bootstrap brokers"
  type        = string
}

variable "vmsd_count" {
  description = "vmsd tasks: nodes of one vmsd cluster (cluster = on; consumer group vms-recorders, leases in ElastiCache, recordings on the shared EFS; docs/scale-out.md)"
  type        = number
  default     = 1
  validation {
    condition     = var.vmsd_count >= 1 && var.vmsd_count <= 24
    error_message = "vmsd_count: 1 to 24 tasks (the partitions of vms.cameras bound the nodes that get cameras; docs/scale-out.md)."
  }
}

variable "nginx_count" {
  type    = number
  default = 2
}

variable "vmsd_cpu" {
  type    = number
  default = 2048
}

variable "vmsd_memory" {
  type    = number
  default = 4096
}

variable "nginx_cpu" {
  type    = number
  default = 1024
}

variable "nginx_memory" {
  type    = number
  default = 2048
}

variable "nginx_port" {
  type    = number
  default = 8080
}

variable "vmsd_port" {
  type    = number
  default = 8090
}

variable "log_retention_days" {
  type    = number
  default = 30
}
