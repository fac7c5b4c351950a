# ECS on Fargate: one cluster, two services.
#  - vmsd (image ECR vmsd:TAG): ingests the cameras, records to EFS (/var/lib/vms/recordings),
#    publishes events to MSK, uses RDS and ElastiCache. vmsd_count tasks form one vmsd cluster
#    (its vmsd.conf says cluster = on; node_id is the task's host name): cameras are records of
#    vms.cameras on MSK, consumer group vms-recorders splits them between the tasks, each camera
#    under an ElastiCache lease, all tasks writing the one EFS tree (docs/scale-out.md, storage (a)).
#  - nginx (image ECR nginx:TAG): pages, API (vms_auth), live and playback; behind the ALB.
# Secrets reach the containers as vms's own aws-sm:ID references in *_FILE variables (vms fetches
# them with GetSecretValue, docs/security.md "Secrets"); the task role may read exactly those.
locals {
  vmsd_image  = "${var.vmsd_repository_url}:${var.image_tag}"
  nginx_image = "${var.nginx_repository_url}:${var.image_tag}"
  secret_env = [
    { name = "VMS_PG_CONNINFO_FILE", value = "aws-sm:${var.secret_ids["postgres_conninfo"]}" },
    { name = "VMS_REDIS_PASSWORD_FILE", value = "aws-sm:${var.secret_ids["redis_auth"]}" },
    { name = "VMS_API_TOKEN_SECRET_FILE", value = "aws-sm:${var.secret_ids["api_token_key"]}" },
    { name = "VMS_RELAY_TOKEN_SECRET_FILE", value = "aws-sm:${var.secret_ids["relay_token_key"]}" },
  ]
  common_env = [
    { name = "AWS_REGION", value = var.region },
    { name = "VMS_REDIS_HOST", value = var.redis_host },
    { name = "VMS_REDIS_TLS", value = "1" },
    { name = "VMS_KAFKA_BROKERS", value = var.kafka_brokers },
    { name = "VMS_S3_RECORDINGS_BUCKET", value = var.bucket_names["recordings"] },
    { name = "VMS_S3_DETECTIONS_BUCKET", value = var.bucket_names["detections"] },
  ]
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = var.tags
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "vmsd and nginx tasks"
  vpc_id      = var.vpc_id
  ingress {
    description     = "nginx from the ALB"
    from_port       = var.nginx_port
    to_port         = var.nginx_port
    protocol        = "tcp"
    security_groups = [var.alb_security_group_id]
  }
  ingress {
    description = "task to task (nginx to vmsd, relay)"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    self        = true
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = merge(var.tags, { Name = "${var.name}-tasks" })
}

# Recordings: EFS, encrypted, mounted by every vmsd task (a camera moving to another task keeps its
# recordings). Backed up by the backup module.
resource "aws_efs_file_system" "recordings" {
  creation_token   = "${var.name}-recordings"
  encrypted        = true
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"
  lifecycle_policy {
    transition_to_ia = "AFTER_7_DAYS"
  }
  tags = merge(var.tags, { Name = "${var.name}-recordings" })
}

resource "aws_efs_mount_target" "recordings" {
  count           = length(var.subnet_ids)
  file_system_id  = aws_efs_file_system.recordings.id
  subnet_id       = var.subnet_ids[count.index]
  security_groups = [aws_security_group.tasks.id]
}

resource "aws_cloudwatch_log_group" "this" {
  for_each          = toset(["vmsd", "nginx"])
  name              = "/vms/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ReadVmsSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = values(var.secret_arns)
  }
  statement {
    sid       = "Buckets"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
    resources = flatten([for a in values(var.bucket_arns) : [a, "${a}/*"]])
  }
  statement {
    sid       = "Rekognition"
    actions   = ["rekognition:DetectLabels", "rekognition:DetectFaces"]
    resources = ["*"]
  }
  statement {
    sid       = "Recordings"
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    resources = [aws_efs_file_system.recordings.arn]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "vms"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

resource "aws_ecs_task_definition" "vmsd" {
  family                   = "${var.name}-vmsd"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.vmsd_cpu
  memory                   = var.vmsd_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  volume {
    name = "recordings"
    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.recordings.id
      transit_encryption = "ENABLED"
      authorization_config {
        iam = "ENABLED"
      }
    }
  }
  container_definitions = jsonencode([{
    name         = "vmsd"
    image        = local.vmsd_image
    essential    = true
    environment  = concat(local.common_env, local.secret_env)
    portMappings = [{ containerPort = var.vmsd_port, protocol = "tcp" }]
    mountPoints  = [{ sourceVolume = "recordings", containerPath = "/var/lib/vms/recordings" }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this["vmsd"].name
        awslogs-region        = var.region
        awslogs-stream-prefix = "vmsd"
      }
    }
  }])
  tags = var.tags
}

resource "aws_ecs_task_definition" "nginx" {
  family                   = "${var.name}-nginx"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.nginx_cpu
  memory                   = var.nginx_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions = jsonencode([{
    name         = "nginx"
    image        = local.nginx_image
    essential    = true
    environment  = concat(local.common_env, local.secret_env)
    portMappings = [{ containerPort = var.nginx_port, protocol = "tcp" }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this["nginx"].name
        awslogs-region        = var.region
        awslogs-stream-prefix = "nginx"
      }
    }
  }])
  tags = var.tags
}

resource "aws_ecs_service" "vmsd" {
  name                   = "vmsd"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.vmsd.arn
  desired_count          = var.vmsd_count
  launch_type            = "FARGATE"
  enable_execute_command = false
  propagate_tags         = "SERVICE"
  network_configuration {
    subnets         = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
  }
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  tags = var.tags
}

resource "aws_ecs_service" "nginx" {
  name                   = "nginx"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.nginx.arn
  desired_count          = var.nginx_count
  launch_type            = "FARGATE"
  enable_execute_command = false
  propagate_tags         = "SERVICE"
  network_configuration {
    subnets         = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
  }
  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "nginx"
    container_port   = var.nginx_port
  }
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  tags = var.tags
}
